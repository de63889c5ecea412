"""SQL statements of walletrecon, one per file, shipped inside the wheel as walletrecon.sql."""
