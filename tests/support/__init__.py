"""Test support: helpers shared by the test modules (the fakes are in tests/fakes/)."""
