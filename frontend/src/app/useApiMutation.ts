import { useMutation, useQueryClient, type QueryKey } from "@tanstack/react-query";
import type { UseFormReturnType } from "@mantine/form";
import { isApiError } from "../api/errors";

interface Options<TData, TVars> {
  /** A Mantine form whose fields receive the API error's `fields` (name -> reason). */
  form?: UseFormReturnType<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Queries to invalidate after success. */
  invalidate?: QueryKey[];
  onSuccess?: (data: TData, vars: TVars) => unknown;
}

/**
 * The one mutation pattern: run an API call, invalidate what it changed, and map an ApiError's
 * `fields` onto the form (the `detail` is shown by <ApiErrorAlert error={mutation.error} />).
 */
export function useApiMutation<TVars = void, TData = unknown>(
  mutationFn: (vars: TVars) => Promise<TData>,
  { form, invalidate = [], onSuccess }: Options<TData, TVars> = {},
) {
  const queryClient = useQueryClient();
  return useMutation<TData, Error, TVars>({
    mutationFn,
    onMutate: () => {
      form?.clearErrors();
    },
    onSuccess: async (data, vars) => {
      await Promise.all(invalidate.map((queryKey) => queryClient.invalidateQueries({ queryKey })));
      await onSuccess?.(data, vars);
    },
    onError: (error) => {
      if (form && isApiError(error) && Object.keys(error.fields).length) {
        form.setErrors(error.fields);
      }
    },
  });
}
