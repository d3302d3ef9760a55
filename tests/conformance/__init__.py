"""PyTorch's own tests as a conformance suite: see tests/test_conformance.py."""
