"""Accounts, pods and WebIDs: who may log in, and as whom."""
