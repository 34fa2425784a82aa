// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// A badge per achievement per holder, awarded by a minter and never transferred: a second kind of on-chain weight.
contract AchievementBadge is ERC721, AccessControl {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    uint256 public totalSupply;
    mapping(uint256 tokenId => uint256) public achievementOf;
    mapping(address holder => mapping(uint256 achievementId => bool)) public hasAchievement;

    error NonTransferable();
    error AlreadyAwarded(address holder, uint256 achievementId);

    constructor(address admin) ERC721("Achievement Badge", "BADGE") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
    }

    function award(address to, uint256 achievementId) external onlyRole(MINTER_ROLE) returns (uint256 tokenId) {
        if (hasAchievement[to][achievementId]) revert AlreadyAwarded(to, achievementId);
        hasAchievement[to][achievementId] = true;
        tokenId = ++totalSupply;
        achievementOf[tokenId] = achievementId;
        _safeMint(to, tokenId);
    }

    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        address from = _ownerOf(tokenId);
        if (from != address(0) && to != address(0)) revert NonTransferable();
        return super._update(to, tokenId, auth);
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
