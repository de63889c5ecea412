"""walletrecon: the nightly reconciliation engine for digital wallets."""

__version__ = "0.1.0"
