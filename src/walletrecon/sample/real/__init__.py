"""Writers of the real delivery formats (gateway reports, bank statements, merchant files) that
``walletrecon sample --formats real`` writes from a generated night's canonical rows."""
