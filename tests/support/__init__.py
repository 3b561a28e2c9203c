"""What the tests share: the combination space, rendering, locking and reading locks, the stand-in
index, interpreters, and template versions for update tests."""
