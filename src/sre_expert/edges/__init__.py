"""Where sre-expert meets the outside: the command line, the Alertmanager webhook server (`serve`), the
read-only Kubernetes API over a bundle (`bundle serve`), the LLM agent, the MCP server and their toolbox."""
