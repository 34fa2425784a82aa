// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// A Chainlink-style feed for the status-page tests: the price only changes when someone calls setPrice.
contract HealthFeed {
    uint80 public round;
    int256 public answer;
    uint256 public updatedAt;

    function setPrice(int256 answer_) external {
        round += 1;
        answer = answer_;
        updatedAt = block.timestamp;
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        return (round, answer, updatedAt, updatedAt, round);
    }

    function utilization() external pure returns (uint256) {
        return 0.42e18;
    }
}
