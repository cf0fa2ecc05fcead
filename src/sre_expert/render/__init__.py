"""Every renderer: the diagnosis report (JSON contract, Markdown, terminal, SARIF/JUnit), the views of
trace, component, dr and fleet, lint's report, and the HTML pages of `serve`."""
