// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";

/// The demo lending market: lenders supply the borrow asset (DUSD); borrowers post listed collateral (WETH, WBTC …)
/// priced by Chainlink-shaped feeds and borrow against it up to each asset's loan-to-value. A position whose health
/// factor falls below 1 (collateral x liquidation threshold < debt) can be liquidated at a bonus. No interest.
///
/// `getUserAccountData` has Aave v3 IPool's exact signature and units (base currency USD with 8 decimals, LTV and
/// liquidation threshold in basis points, health factor 1e18, type(uint256).max without debt), so the portal's
/// reader works unchanged against Aave v3 and its forks.
contract LendingPool is Ownable {
    using SafeERC20 for IERC20;

    uint256 public constant BASE_DECIMALS = 8;
    uint256 public constant BPS = 10_000;
    uint256 public constant HEALTH_FACTOR_ONE = 1e18;

    struct AssetConfig {
        AggregatorV3Interface feed;
        uint32 maxPriceAge; // seconds after which the feed's answer is stale
        uint16 ltv; // basis points
        uint16 liquidationThreshold; // basis points
        uint16 liquidationBonus; // basis points paid on top of the debt covered
        uint8 decimals;
        bool collateral;
    }

    IERC20 public immutable asset; // what is lent and borrowed
    uint256 public totalSupplied;
    uint256 public totalBorrowed;
    mapping(address account => uint256) public suppliedBy;
    mapping(address account => uint256) public borrowedBy;
    mapping(address token => AssetConfig) public configOf;
    mapping(address token => mapping(address account => uint256)) public collateralBalanceOf;
    mapping(address token => uint256) public totalCollateral;
    address[] private _reserves; // the borrow asset first, then the collateral assets

    event AssetListed(address indexed asset, address feed, uint256 maxPriceAge);
    event RiskParametersChanged(
        address indexed asset, uint256 ltv, uint256 liquidationThreshold, uint256 liquidationBonus
    );
    event Supplied(address indexed account, address indexed asset, uint256 amount);
    event Withdrawn(address indexed account, address indexed asset, uint256 amount);
    event Borrowed(address indexed account, address indexed asset, uint256 amount);
    event Repaid(address indexed account, address indexed asset, uint256 amount);
    event Liquidated(
        address indexed account,
        address indexed liquidator,
        address indexed collateralAsset,
        uint256 debtCovered,
        uint256 collateralSeized
    );

    error ZeroAmount();
    error UnknownAsset(address asset);
    error AlreadyListed(address asset);
    error InvalidRiskParameters(uint256 ltv, uint256 liquidationThreshold, uint256 liquidationBonus);
    error StalePrice(address asset, uint256 updatedAt);
    error InvalidPrice(address asset, int256 answer);
    error InsufficientLiquidity(uint256 available);
    error InsufficientCollateral(uint256 availableBorrowsBase);
    error ExceedsSupply(uint256 supplied);
    error Healthy(uint256 healthFactor);
    error NoCollateral(address asset);

    constructor(address owner_, IERC20 asset_, AggregatorV3Interface assetFeed, uint32 maxPriceAge) Ownable(owner_) {
        asset = asset_;
        _list(address(asset_), assetFeed, maxPriceAge, false);
    }

    // --- parameters (owner: the DAO's executor) -------------------------------------------------------------------

    function listCollateral(
        address token,
        AggregatorV3Interface feed,
        uint32 maxPriceAge,
        uint16 ltv,
        uint16 liquidationThreshold,
        uint16 liquidationBonus
    ) external onlyOwner {
        if (address(configOf[token].feed) != address(0)) revert AlreadyListed(token);
        _list(token, feed, maxPriceAge, true);
        _setRisk(token, ltv, liquidationThreshold, liquidationBonus);
    }

    function setRiskParameters(address token, uint16 ltv, uint16 liquidationThreshold, uint16 liquidationBonus)
        external
        onlyOwner
    {
        if (!configOf[token].collateral) revert UnknownAsset(token);
        _setRisk(token, ltv, liquidationThreshold, liquidationBonus);
    }

    function _list(address token, AggregatorV3Interface feed, uint32 maxPriceAge, bool collateral) private {
        configOf[token] = AssetConfig({
            feed: feed,
            maxPriceAge: maxPriceAge,
            ltv: 0,
            liquidationThreshold: 0,
            liquidationBonus: 0,
            decimals: IERC20Metadata(token).decimals(),
            collateral: collateral
        });
        _reserves.push(token);
        emit AssetListed(token, address(feed), maxPriceAge);
    }

    function _setRisk(address token, uint16 ltv, uint16 liquidationThreshold, uint16 liquidationBonus) private {
        // LTV <= threshold <= 100 %, and a bonus that leaves the threshold payable (threshold x (1 + bonus) <= 100 %).
        if (
            ltv > liquidationThreshold || liquidationThreshold > BPS
                || uint256(liquidationThreshold) * (BPS + liquidationBonus) > BPS * BPS
        ) revert InvalidRiskParameters(ltv, liquidationThreshold, liquidationBonus);
        AssetConfig storage config = configOf[token];
        (config.ltv, config.liquidationThreshold, config.liquidationBonus) = (ltv, liquidationThreshold, liquidationBonus);
        emit RiskParametersChanged(token, ltv, liquidationThreshold, liquidationBonus);
    }

    // --- reads ------------------------------------------------------------------------------------------------------

    /// Aave v3 IPool's name: every listed asset, the borrow asset first.
    function getReservesList() external view returns (address[] memory) {
        return _reserves;
    }

    /// Price of one whole `token` in the base currency (8 decimals), from its feed; reverts when stale or not positive.
    function getAssetPrice(address token) public view returns (uint256) {
        AssetConfig storage config = configOf[token];
        if (address(config.feed) == address(0)) revert UnknownAsset(token);
        (, int256 answer,, uint256 updatedAt,) = config.feed.latestRoundData();
        if (answer <= 0) revert InvalidPrice(token, answer);
        if (block.timestamp > updatedAt + config.maxPriceAge) revert StalePrice(token, updatedAt);
        uint8 feedDecimals = config.feed.decimals();
        return feedDecimals >= BASE_DECIMALS
            ? uint256(answer) / 10 ** (feedDecimals - BASE_DECIMALS)
            : uint256(answer) * 10 ** (BASE_DECIMALS - feedDecimals);
    }

    /// Borrowed / supplied, 1e18 = 100%.
    function utilization() external view returns (uint256) {
        return totalSupplied == 0 ? 0 : (totalBorrowed * 1e18) / totalSupplied;
    }

    function availableLiquidity() public view returns (uint256) {
        return totalSupplied - totalBorrowed;
    }

    /// Aave v3 IPool.getUserAccountData: the same signature, order and units.
    function getUserAccountData(address user)
        public
        view
        returns (
            uint256 totalCollateralBase,
            uint256 totalDebtBase,
            uint256 availableBorrowsBase,
            uint256 currentLiquidationThreshold,
            uint256 ltv,
            uint256 healthFactor
        )
    {
        uint256 weightedThreshold;
        uint256 weightedLtv;
        (totalCollateralBase, totalDebtBase, weightedLtv, weightedThreshold) = _account(user);
        if (totalCollateralBase != 0) {
            currentLiquidationThreshold = weightedThreshold / totalCollateralBase;
            ltv = weightedLtv / totalCollateralBase;
        }
        uint256 borrowable = weightedLtv / BPS;
        availableBorrowsBase = borrowable > totalDebtBase ? borrowable - totalDebtBase : 0;
        healthFactor = totalDebtBase == 0
            ? type(uint256).max
            : (weightedThreshold * HEALTH_FACTOR_ONE) / (BPS * totalDebtBase);
    }

    // --- lenders and borrowers -------------------------------------------------------------------------------------

    /// Supply the borrow asset (liquidity for borrowers) or a listed collateral asset.
    function supply(address token, uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        if (token == address(asset)) {
            suppliedBy[msg.sender] += amount;
            totalSupplied += amount;
        } else {
            if (!configOf[token].collateral) revert UnknownAsset(token);
            collateralBalanceOf[token][msg.sender] += amount;
            totalCollateral[token] += amount;
        }
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        emit Supplied(msg.sender, token, amount);
    }

    function withdraw(address token, uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        if (token == address(asset)) {
            if (amount > suppliedBy[msg.sender]) revert ExceedsSupply(suppliedBy[msg.sender]);
            if (amount > availableLiquidity()) revert InsufficientLiquidity(availableLiquidity());
            suppliedBy[msg.sender] -= amount;
            totalSupplied -= amount;
        } else {
            if (!configOf[token].collateral) revert UnknownAsset(token);
            uint256 held = collateralBalanceOf[token][msg.sender];
            if (amount > held) revert ExceedsSupply(held);
            collateralBalanceOf[token][msg.sender] = held - amount;
            totalCollateral[token] -= amount;
            _requireBorrowingPower(msg.sender);
        }
        IERC20(token).safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, token, amount);
    }

    function borrow(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        if (amount > availableLiquidity()) revert InsufficientLiquidity(availableLiquidity());
        borrowedBy[msg.sender] += amount;
        totalBorrowed += amount;
        _requireBorrowingPower(msg.sender);
        asset.safeTransfer(msg.sender, amount);
        emit Borrowed(msg.sender, address(asset), amount);
    }

    /// Repays up to what the caller owes.
    function repay(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        uint256 owed = borrowedBy[msg.sender];
        if (amount > owed) amount = owed;
        asset.safeTransferFrom(msg.sender, address(this), amount);
        borrowedBy[msg.sender] = owed - amount;
        totalBorrowed -= amount;
        emit Repaid(msg.sender, address(asset), amount);
    }

    /// Repay up to `debtToCover` of an unhealthy `user`'s debt and receive their `collateralAsset` worth that much plus
    /// the asset's liquidation bonus. When the collateral runs out first, less debt is covered (the rest is bad debt).
    function liquidate(address collateralAsset, address user, uint256 debtToCover) external {
        if (debtToCover == 0) revert ZeroAmount();
        AssetConfig storage config = configOf[collateralAsset];
        if (!config.collateral) revert UnknownAsset(collateralAsset);
        (,,,,, uint256 healthFactor) = getUserAccountData(user);
        if (healthFactor >= HEALTH_FACTOR_ONE) revert Healthy(healthFactor);
        uint256 debt = borrowedBy[user];
        if (debtToCover > debt) debtToCover = debt;
        // value(debt) x (1 + bonus) = value(seized); scale = 10^collateralDecimals / 10^debtDecimals, kept in the fraction
        uint256 debtPrice = getAssetPrice(address(asset));
        uint256 collateralPrice = getAssetPrice(collateralAsset);
        uint256 numerator = debtPrice * (BPS + config.liquidationBonus) * 10 ** config.decimals;
        uint256 denominator = collateralPrice * BPS * 10 ** configOf[address(asset)].decimals;
        uint256 seized = (debtToCover * numerator) / denominator;
        uint256 held = collateralBalanceOf[collateralAsset][user];
        if (held == 0) revert NoCollateral(collateralAsset);
        if (seized > held) {
            seized = held;
            debtToCover = (held * denominator) / numerator;
        }
        borrowedBy[user] = debt - debtToCover;
        totalBorrowed -= debtToCover;
        collateralBalanceOf[collateralAsset][user] = held - seized;
        totalCollateral[collateralAsset] -= seized;
        asset.safeTransferFrom(msg.sender, address(this), debtToCover);
        IERC20(collateralAsset).safeTransfer(msg.sender, seized);
        emit Liquidated(user, msg.sender, collateralAsset, debtToCover, seized);
    }

    /// Collateral and debt in the base currency, and the collateral weighted by LTV and by threshold (x BPS).
    function _account(address user)
        private
        view
        returns (uint256 collateralBase, uint256 debtBase, uint256 weightedLtv, uint256 weightedThreshold)
    {
        for (uint256 i = 1; i < _reserves.length; i++) {
            address token = _reserves[i];
            uint256 amount = collateralBalanceOf[token][user];
            if (amount == 0) continue;
            AssetConfig storage config = configOf[token];
            uint256 value = (amount * getAssetPrice(token)) / 10 ** config.decimals;
            collateralBase += value;
            weightedThreshold += value * config.liquidationThreshold;
            weightedLtv += value * config.ltv;
        }
        uint256 debt = borrowedBy[user];
        // Debt rounds up, collateral down: a wei of debt never slips past the limits.
        if (debt != 0) debtBase = Math.ceilDiv(debt * getAssetPrice(address(asset)), 10 ** configOf[address(asset)].decimals);
    }

    function _requireBorrowingPower(address user) private view {
        (, uint256 debtBase, uint256 weightedLtv,) = _account(user);
        if (debtBase * BPS > weightedLtv) {
            revert InsufficientCollateral(0);
        }
    }
}
