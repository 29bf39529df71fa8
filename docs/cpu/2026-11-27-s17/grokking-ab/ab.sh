# Alternating processes: base a58f217 (the session's start, a git worktree in /tmp/base17) against the working tree with the
# solve's look-ahead runs, six pairs (run with the script's first form, an inline copy of what is now tools/grokking-ab.sh):
tools/grokking-ab.sh /tmp/base17 /work/main 6 /tmp/ab17
