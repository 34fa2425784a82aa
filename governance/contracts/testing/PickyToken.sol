// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// A token whose balanceOf reverts for one address and answers nothing for another: for tests that one failing read
/// in a batch marks only that address.
contract PickyToken {
    address public immutable reverts;
    address public immutable silent;
    mapping(address => uint256) public balances;

    constructor(address reverts_, address silent_) {
        reverts = reverts_;
        silent = silent_;
    }

    function setBalance(address account, uint256 amount) external {
        balances[account] = amount;
    }

    function balanceOf(address account) external view returns (uint256) {
        require(account != reverts, "PickyToken: no balance for you");
        if (account == silent) {
            assembly {
                return(0, 0)
            }
        }
        return balances[account];
    }

    function totalSupply() external pure returns (uint256) {
        return 0;
    }
}
