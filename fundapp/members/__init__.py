"""Member cities and organisations of Metropolis."""
