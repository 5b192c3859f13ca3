"""Running the writes: apply step by step, batches, settling, host limits."""
