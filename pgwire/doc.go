// Package pgwire is Dormouse's PostgreSQL front door: a server of the
// PostgreSQL wire protocol (version 3) over the SQL engine, so that psql,
// pgx, pgJDBC, pgbench and Trino's PostgreSQL connector use Dormouse as
// they would use PostgreSQL. Messages are read and written with
// github.com/jackc/pgx/v5/pgproto3; values are encoded by sql/pgtypes.
//
// It sits above sql and below nothing: cmd/dormouse starts a Server on a
// listener; every connection gets its own sql.Session.
//
// Life cycle of a connection:
//
//  1. Startup: SSLRequest and GSSENCRequest are answered 'N' (no TLS yet);
//     a CancelRequest cancels the statement running on the connection its
//     key names and closes; a StartupMessage of any user and any database
//     (all names open the one store, shown as database "dormouse") is
//     answered with AuthenticationOk, the ParameterStatus values clients
//     read, BackendKeyData and ReadyForQuery.
//  2. The connection's loop receives messages itself (each capped at
//     MaxMessageBytes), as a PostgreSQL backend does. While a statement
//     runs nothing reads the socket, so the connection is polled every
//     200 ms for a client that closed its end (POLLRDHUP, like
//     PostgreSQL's client_connection_check_interval): then the
//     connection's context, under which every statement runs, is
//     cancelled.
//  3. The loop answers simple queries (Query: each statement's
//     RowDescription, DataRows and CommandComplete, then ReadyForQuery) and
//     the extended protocol: Parse prepares a statement (sql.Prepare infers
//     its parameter types), Bind decodes parameters in text or binary into
//     a portal, Describe, Execute (with a row limit a portal is left
//     suspended with its operators open, answered PortalSuspended, and the
//     next Execute continues it), Close, Flush and Sync. After an error the
//     loop skips messages until Sync, and inside a transaction block the
//     block fails until ROLLBACK, as in PostgreSQL. COPY FROM STDIN and TO
//     STDOUT run over CopyData. Sync, and the end of a simple Query, end
//     the implicit transaction of the statements before: the session
//     commits their writes then (an error at commit follows their results,
//     as in PostgreSQL), or deletes them if one failed.
//  4. Terminate, a failed read or write, or the server's shutdown ends the
//     connection: its portals are closed, which stops their operators, and
//     a transaction left open is rolled back (sql.Session.Close).
//
// Every error reaches the client as an ErrorResponse with its SQLSTATE,
// message and position; a malformed message is answered with a FATAL error
// and the connection is closed, never with a panic.
package pgwire
