// Package agg holds the aggregate functions of the SQL engine — count, sum,
// min, max, avg, the variance family, bool_and/bool_or, string_agg and
// array_agg — with PostgreSQL's NULL handling and, where Arrow can carry
// them, PostgreSQL's result types.
//
// It sits below package engine, whose HashAggregate assigns each input row
// a dense group number and hands whole batches to the functions here; DISTINCT
// and FILTER are the operator's business (they only decide which rows an
// accumulator sees, by marking the others Skip).
//
// # Life cycle
//
// Resolve finds a Func from a name and argument types; a Func is immutable
// and describes the result type and the partial-state columns. Func.New
// returns an Accumulator, which holds one state per group:
//
//  1. Grow to the number of groups seen so far (new groups start empty).
//  2. Update with each batch of arguments and the group of every row — a
//     typed loop per batch, never a call per row.
//  3. Either Result (the final values), or State (partial states, one Arrow
//     column per field of Func.State) to be sent on and Merged into another
//     accumulator of the same Func: this is how per-partition partial
//     aggregates running in parallel are combined.
//
// Accumulators are not safe for concurrent use; their states are plain Go
// memory, reported by Size so that the operator can reserve it.
//
// # Semantics chosen
//
//   - count(*) counts rows; count(x) counts non-NULL values; both BIGINT.
//   - sum of integer types is BIGINT. PostgreSQL returns NUMERIC for
//     sum(bigint); we add in 128 bits, so intermediate sums never overflow,
//     and raise 22003 (numeric value out of range) only when the final sum
//     does not fit in a BIGINT. sum(real) is REAL and sum(double precision)
//     DOUBLE PRECISION, as in PostgreSQL. sum of no rows is NULL.
//   - avg is DOUBLE PRECISION for every numeric input (PostgreSQL gives
//     NUMERIC for integers): integers are summed exactly in 128 bits and
//     divided once at the end.
//   - stddev, stddev_samp, stddev_pop, variance, var_samp, var_pop are
//     DOUBLE PRECISION, computed with Welford's update and Chan's merge;
//     NULL on no rows, and the sample forms NULL on one row.
//   - min and max take any ordered type (numbers, text, bytea, boolean,
//     dates, times, timestamps, intervals of time, decimals); NaN sorts
//     above every other float, as in PostgreSQL.
//   - bool_and, bool_or and every (= bool_and) are BOOLEAN, NULL on no
//     non-NULL rows.
//   - string_agg(text, text) and string_agg(bytea, bytea) join non-NULL
//     values, each preceded (except the first) by its own row's delimiter,
//     a NULL delimiter counting as empty, exactly as PostgreSQL does.
//   - array_agg(x) is a LIST of x including NULL elements, NULL on no rows.
package agg
