"""Rasa NLU components for Vietnamese."""
