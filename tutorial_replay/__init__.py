"""`python -m tutorial_replay`: replays the house-price tutorial; runs notebooks and scripts under the emulator."""
