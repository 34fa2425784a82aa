// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/// A minimal EIP-1271 contract wallet: a signature is valid when its owner signed the hash.
/// Like a Safe with SignMessageLib, the owner may also approve a hash on-chain (`signMessage`); the wallet then accepts
/// the empty signature `0x` for it. `setRefuse(true)` makes it say no to everything, to test the refusal path, and
/// `rotateOwner` hands the wallet to a new key (as a Safe's swapOwner does): the old key's signatures stop counting.
contract OwnerWallet is IERC1271 {
    address public owner;
    bool public refuse;
    mapping(bytes32 => bool) public signedMessages;

    event SignMsg(bytes32 indexed msgHash);

    constructor(address owner_) {
        owner = owner_;
    }

    function setRefuse(bool refuse_) external {
        require(msg.sender == owner, "only owner");
        refuse = refuse_;
    }

    function rotateOwner(address newOwner) external {
        require(msg.sender == owner, "only owner");
        owner = newOwner;
    }

    function signMessage(bytes32 hash) external {
        require(msg.sender == owner, "only owner");
        signedMessages[hash] = true;
        emit SignMsg(hash);
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (signature.length == 0) {
            return !refuse && signedMessages[hash] ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
        }
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecover(hash, signature);
        if (!refuse && err == ECDSA.RecoverError.NoError && signer == owner) {
            return IERC1271.isValidSignature.selector;
        }
        return 0xffffffff;
    }
}

/// Deploys OwnerWallets at deterministic CREATE2 addresses: the factory an EIP-6492 signature names.
contract OwnerWalletFactory {
    function deploy(address owner_, bytes32 salt) external returns (address wallet) {
        wallet = address(new OwnerWallet{salt: salt}(owner_));
    }

    function predict(address owner_, bytes32 salt) external view returns (address) {
        bytes32 codeHash = keccak256(abi.encodePacked(type(OwnerWallet).creationCode, abi.encode(owner_)));
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, codeHash)))));
    }
}
