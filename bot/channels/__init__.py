"""Rasa input channels of ours."""
