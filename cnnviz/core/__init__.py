"""Torch only: layers, blocks, spec, the predicted walk, measure, report, budget."""
