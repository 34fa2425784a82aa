// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";

/// A Chainlink-style price feed (AggregatorV3Interface) whose owner sets the price: the demo pool's oracles.
contract DemoPriceOracle is AggregatorV3Interface, Ownable {
    uint256 public constant version = 4;
    uint8 public immutable decimals;
    string public description;
    uint80 private _roundId;
    int256 private _answer;
    uint256 private _updatedAt;
    mapping(uint80 roundId => int256) private _answers;
    mapping(uint80 roundId => uint256) private _updates;

    error NoSuchRound(uint80 roundId);

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    constructor(address owner_, uint8 decimals_, string memory description_, int256 initialAnswer) Ownable(owner_) {
        decimals = decimals_;
        description = description_;
        _set(initialAnswer);
    }

    function setPrice(int256 answer) external onlyOwner {
        _set(answer);
    }

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return (_roundId, _answer, _updatedAt, _updatedAt, _roundId);
    }

    function getRoundData(uint80 roundId)
        external
        view
        returns (uint80, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        if (roundId == 0 || roundId > _roundId) revert NoSuchRound(roundId);
        return (roundId, _answers[roundId], _updates[roundId], _updates[roundId], roundId);
    }

    function latestAnswer() external view returns (int256) {
        return _answer;
    }

    function _set(int256 answer) private {
        _roundId += 1;
        _answer = answer;
        _updatedAt = block.timestamp;
        _answers[_roundId] = answer;
        _updates[_roundId] = block.timestamp;
        emit AnswerUpdated(answer, _roundId, block.timestamp);
    }
}
