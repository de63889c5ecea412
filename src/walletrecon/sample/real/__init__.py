"""Writers of the real file formats (gateway reports, bank statements, receipts) that
``walletrecon sample --formats real`` writes from a night's canonical rows."""
