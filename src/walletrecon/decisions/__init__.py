"""People's decisions on breaks (CONTRACT section 6): an append-only, hash-chained log under
``OUT/decisions/``, recorded by ``walletrecon decide`` and applied by the next night like any other
input, never by editing a published night.

- ``model``: the names (actions, states, resolutions) and the record of one decision;
- ``log``: reading (with its chain checked) and appending under the output folder's lock;
- ``targets``: what a decision can name, looked up in the latest published night;
- ``record``: checking and recording decisions, one or many (``decide import``);
- ``apply``: what a night does with the decisions due to it (pure, on frames);
- ``book``: which decisions a night applies, and the journal of its write-offs.
"""
