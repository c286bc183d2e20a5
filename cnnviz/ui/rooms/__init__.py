"""Ask the room: a lesson's question answered by the whole class, as peer instruction runs it.

teacher   the presenter's panel, phase by phase: round 1 alone, closed without revealing
          (with the next move Crouch & Mazur 2001 suggest), round 2 after discussion, the
          reveal, then the question's isomorphic twin answered alone (Smith et al. 2009)
reveal    what the projector shows of the answers: hidden until the teacher chooses, then
          per round against the computed answer, the switches and Hake's gain g (1998)
results   the room's report behind the teacher's secret, and its files (the command
          line's export and report, made after the store checks the secret)
door      how the class reaches the room (a join address that is not the teacher's
          loopback name, its QR code) and how the teacher gets back to it (the secret
          kept in the browser: *Resume room CODE* after a reload)
student   the Join page: the room's code, the question (the twin's while it is asked), an
          answer and how sure one is; never another student's answer
question  what a student's phone shows of the question, never its answer
store     the room database seen from a page (the only part of ui/ that opens it, imported
          when it is used): every failure a sentence
"""
