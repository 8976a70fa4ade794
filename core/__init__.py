"""The ground floor: records, settings, errors and shared vocabulary. Imports nothing of ours."""
