// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// A deliberately small lending pool for the demo: one asset, supply / withdraw / borrow / repay, no interest. It exists
/// so the status pages have real platform metrics to read (total supplied, total borrowed, utilisation, oracle).
contract LendingPool {
    using SafeERC20 for IERC20;

    uint256 public constant COLLATERAL_FACTOR = 0.8e18; // borrow up to 80% of what you supplied

    IERC20 public immutable asset;
    address public immutable oracle;
    uint256 public totalSupplied;
    uint256 public totalBorrowed;
    mapping(address account => uint256) public suppliedBy;
    mapping(address account => uint256) public borrowedBy;

    event Supplied(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event Borrowed(address indexed account, uint256 amount);
    event Repaid(address indexed account, uint256 amount);

    error ZeroAmount();
    error InsufficientLiquidity(uint256 available);
    error InsufficientCollateral(uint256 limit);
    error ExceedsSupply(uint256 supplied);

    constructor(IERC20 asset_, address oracle_) {
        asset = asset_;
        oracle = oracle_;
    }

    /// Borrowed / supplied, 1e18 = 100%.
    function utilization() external view returns (uint256) {
        return totalSupplied == 0 ? 0 : (totalBorrowed * 1e18) / totalSupplied;
    }

    function availableLiquidity() public view returns (uint256) {
        return totalSupplied - totalBorrowed;
    }

    function supply(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        asset.safeTransferFrom(msg.sender, address(this), amount);
        suppliedBy[msg.sender] += amount;
        totalSupplied += amount;
        emit Supplied(msg.sender, amount);
    }

    function withdraw(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        if (amount > suppliedBy[msg.sender]) revert ExceedsSupply(suppliedBy[msg.sender]);
        if (amount > availableLiquidity()) revert InsufficientLiquidity(availableLiquidity());
        uint256 remaining = suppliedBy[msg.sender] - amount;
        if (borrowedBy[msg.sender] * 1e18 > remaining * COLLATERAL_FACTOR) {
            revert InsufficientCollateral((remaining * COLLATERAL_FACTOR) / 1e18);
        }
        suppliedBy[msg.sender] = remaining;
        totalSupplied -= amount;
        asset.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    function borrow(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        if (amount > availableLiquidity()) revert InsufficientLiquidity(availableLiquidity());
        uint256 limit = (suppliedBy[msg.sender] * COLLATERAL_FACTOR) / 1e18;
        if (borrowedBy[msg.sender] + amount > limit) revert InsufficientCollateral(limit);
        borrowedBy[msg.sender] += amount;
        totalBorrowed += amount;
        asset.safeTransfer(msg.sender, amount);
        emit Borrowed(msg.sender, amount);
    }

    /// Repays up to what the caller owes.
    function repay(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        uint256 owed = borrowedBy[msg.sender];
        if (amount > owed) amount = owed;
        asset.safeTransferFrom(msg.sender, address(this), amount);
        borrowedBy[msg.sender] = owed - amount;
        totalBorrowed -= amount;
        emit Repaid(msg.sender, amount);
    }
}
