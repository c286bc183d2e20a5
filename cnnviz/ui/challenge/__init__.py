"""The design challenge: the teacher sets a budget, each student designs a network under it,
the server trains every design and the projector ranks them.

view      the page: a student's side, or the teacher's when this session opened it
student   join by code, build a design with its numbers live against the budget, send it
          under a nickname, follow its place in the queue and its result
teacher   open a challenge; the leaderboard (accuracy against parameters and MACs with
          the Pareto front, the top designs), live; close it and reveal the private split
"""
