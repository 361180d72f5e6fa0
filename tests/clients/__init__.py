"""Tests for pod_client (clients/pod_client), against pod-server and against CSS."""
