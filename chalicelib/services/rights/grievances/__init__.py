"""Grievances: a person's complaint to the tenant's grievance officer, verified by a code, answered by staff.

``officer`` holds the tenant's setting (who the officer is, how many days an answer may take),
``filing`` the person's side (raise, verify), ``handling`` the staff's (queue, read, answer),
``messages`` what each side is told. Every message names the officer and how to reach them.
"""
