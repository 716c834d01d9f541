// Package mcpserver is `pubdoc mcp`: a Model Context Protocol server over stdio, so that a
// coding agent asked "why did my publish fail?" calls Pubdoc instead of guessing. It offers
// four tools — diagnose_log, diagnose_run, check_workflow and search_causes — and answers
// each with one JSON object, the same the CLI prints with --format json.
//
// It is an adapter: the tools call the code paths the caller hands it in [Tools] (in
// pubdoc, the CLI's own), and the knowledge base's Search. It is the only package that
// imports the MCP SDK (github.com/modelcontextprotocol/go-sdk).
package mcpserver
