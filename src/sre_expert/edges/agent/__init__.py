"""The optional LLM agent (`sre-expert ask` / `chat`): a definition file, a model, guarded tools, a loop.

Nothing here is imported by the core or by `sre-expert --help`: pydantic-ai costs ~1.6 s to import, so it
is imported inside the functions that build and run the agent.
"""
