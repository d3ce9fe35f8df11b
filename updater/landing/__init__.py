"""Landing a bump in a remote repository: push mode (`push`) and pull-request mode (`pr`).

Both clone into a temporary workspace, run the bump engine on it, commit, and push; races are won by
re-applying the bump on the new tip, never by a textual rebase.
"""
