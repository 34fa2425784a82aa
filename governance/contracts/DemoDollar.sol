// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// The demo lending pool's asset: a plain ERC-20 its owner mints on the dev chain.
contract DemoDollar is ERC20, Ownable {
    constructor(address owner_) ERC20("Demo Dollar", "DUSD") Ownable(owner_) {}

    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
