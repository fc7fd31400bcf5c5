"""LeadVault: a privacy-first backend for lead capture and call tracking."""
