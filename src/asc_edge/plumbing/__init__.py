"""Plumbing shared by every layer (standard library only): typed errors, the CLI helpers and shared argument
groups, atomic writes and output paths, native-output silencing and allocator tuning. It imports no other
asc_edge package, so any layer may import it."""
