"""One exception family for walletrecon, each kind carrying the exit code the CLI turns it into.

Exit codes (see README): 0 done; 1 breaks at or above --fail-on; 2 usage, configuration or input
error (re-running will not help); 75 transient failure (safe to retry); 70 any other failure.
"""

from __future__ import annotations


class WalletReconError(Exception):
    """Base of every error the engine raises on purpose."""

    exit_code: int = 70
    retryable: bool = False


class UsageError(WalletReconError):
    """The command was called wrongly (bad date, missing folder)."""

    exit_code = 2


class ConfigError(WalletReconError):
    """The configuration file is unreadable or names an unknown key or a bad value."""

    exit_code = 2


class InputError(WalletReconError):
    """An input file is missing, unreadable, or lacks a required column."""

    exit_code = 2


class StateError(WalletReconError):
    """The state of earlier nights in the output folder cannot be used by this version."""

    exit_code = 2


class ReconciliationIntegrityError(WalletReconError):
    """The books of a run do not balance: a row was lost or counted twice. Nothing is published."""

    exit_code = 70


class TransientError(WalletReconError):
    """A failure that may pass on its own (disk full, lock held): safe to retry."""

    exit_code = 75
    retryable = True
