"""Linking findings into cause → symptom chains, ranking them, and running the checks."""
