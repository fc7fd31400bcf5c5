"""Envelope encryption with one data key per person, blind indexes and minimisation helpers."""
