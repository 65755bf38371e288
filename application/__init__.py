"""Chronicle's use cases: commands, the MES application service and the command bus."""
