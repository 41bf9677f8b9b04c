{# on-run-end: record what this build built and as of when, in
   activations.dbt_builds (one row per model built: the invocation, its as_of,
   when the build started and ended, UTC). `activations report` and the
   dashboard read the as_of from here. Only `dbt build` and `dbt run` record. #}
{% macro record_build(results) -%}
    {%- if not execute or flags.WHICH not in ('build', 'run') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set built = [] -%}
    {%- for result in results -%}
        {%- if result.node.resource_type == 'model' and (result.status | string) == 'success' -%}
            {%- do built.append(result.node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not built -%}
        {{ return('') }}
    {%- endif -%}
    {%- set fmt = '%Y-%m-%d %H:%M:%S' -%}
    {%- set started = run_started_at.astimezone(modules.pytz.utc).strftime(fmt) -%}
    {%- set finished = modules.datetime.datetime.now(modules.pytz.utc).strftime(fmt) -%}
    {%- set statements = [
        'create schema if not exists activations',
        'create table if not exists activations.dbt_builds (
        invocation_id ' ~ dbt.type_string() ~ ',
        command ' ~ dbt.type_string() ~ ',
        as_of timestamp,
        started_at timestamp,
        finished_at timestamp,
        schema_name ' ~ dbt.type_string() ~ ',
        model_name ' ~ dbt.type_string() ~ '
    )',
    ] -%}
    {%- set rows = [] -%}
    {%- for node in built -%}
        {%- do rows.append(
            "('" ~ invocation_id ~ "', '" ~ flags.WHICH ~ "', cast('" ~ as_of_literal() ~ "' as timestamp), "
            ~ "cast('" ~ started ~ "' as timestamp), cast('" ~ finished ~ "' as timestamp), "
            ~ "'" ~ node.schema ~ "', '" ~ node.name ~ "')"
        ) -%}
    {%- endfor -%}
    {%- do statements.append(
        'insert into activations.dbt_builds
        (invocation_id, command, as_of, started_at, finished_at, schema_name, model_name)
    values
    ' ~ rows | join(',\n    ')
    ) -%}
    {{ record_build_run(statements) }}
{%- endmacro %}

{# The hook's statements, as the adapter runs them: one hook of several
   statements on DuckDB; PostgreSQL as well, ended by a commit (psycopg2 opens
   a transaction for the hook's statements); Spark runs one statement per
   call, so each is run here and the hook itself is empty. #}
{% macro record_build_run(statements) -%}
    {{ return(adapter.dispatch('record_build_run')(statements)) }}
{%- endmacro %}

{% macro default__record_build_run(statements) -%}
    {{ statements | join(';\n') }};
    commit;
{%- endmacro %}

{% macro duckdb__record_build_run(statements) -%}
    {{ statements | join(';\n') }};
{%- endmacro %}

{% macro spark__record_build_run(statements) -%}
    {%- for statement in statements -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
{%- endmacro %}
