"""Support code for the agentd black-box integration tests."""
