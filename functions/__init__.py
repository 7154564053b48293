"""One folder per deployable function; `functions.registry` lists them for every tool."""
