"""The core every stage shares: the tables' schema, argument checks, errors, paths, text and
end markers, and the speed plumbing. It imports nothing else of q7x2."""
