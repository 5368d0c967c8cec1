"""The hasher for initial passwords that the system generates for imported accounts.

An initial password is 14 random characters (about 81 bits): guessing it is out of reach
whatever the hash cost, which matters only for passwords people choose. Argon2 at its usual
cost (about 0.1 s and 100 MiB per hash) would make a 10,000-row import take many minutes, so
initial passwords use PBKDF2-SHA256 with 1,000 rounds: at a trillion guesses a second, 81 bits
still take tens of thousands of years. The hasher is not the preferred one: the first
successful sign-in rehashes with Argon2, and the account must then choose its own password.
"""

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class InitialPasswordHasher(PBKDF2PasswordHasher):
    algorithm = "pbkdf2_initial"
    iterations = 1_000
