"""Writers of the gateways', banks' and merchants' own file formats for ``walletrecon sample``."""
