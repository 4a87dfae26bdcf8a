/**
 * The screens' small tables: compact, a test id, rows from a load (none yet: empty), paged only
 * when a page size is given (the pager hides on a single page), an empty text.
 */
import { Table } from 'antd';
import type { TableProps } from 'antd';

export function DataTable<T extends object>(props: {
  testId: string;
  rows: readonly T[] | undefined;
  loading?: boolean;
  rowKey: TableProps<T>['rowKey'];
  empty: string;
  pageSize?: number;
  onRow?: TableProps<T>['onRow'];
  columns: TableProps<T>['columns'];
}): JSX.Element {
  return (
    <Table<T>
      data-testid={props.testId}
      size="small"
      rowKey={props.rowKey}
      loading={props.loading}
      dataSource={props.rows ?? []}
      pagination={props.pageSize ? { pageSize: props.pageSize, hideOnSinglePage: true } : false}
      locale={{ emptyText: props.empty }}
      onRow={props.onRow}
      columns={props.columns}
    />
  );
}
