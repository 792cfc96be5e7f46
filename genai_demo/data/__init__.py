"""Data loaders. Each reads from a folder it is given and can fetch its canonical source when online."""
