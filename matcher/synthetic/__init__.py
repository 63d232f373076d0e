"""Everything that exists only for synthetic worlds: the seeder and its ground truth
(``synthetic_truth`` schema), the taxonomy it draws from, simulated answers to published
lists, and the oracle that judges models against the truth.

Production modules never import this package (a test walks the import graph); the CLI, the
composition root, wires it in for `matcher seed`, `matcher simulate-feedback` and the oracle.
"""
