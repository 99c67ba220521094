import { MantineProvider } from "@mantine/core";
import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { createRef, useState } from "react";
import { describe, expect, it } from "vitest";
import { fieldsToErrorSchema, JsonSchemaForm, SECRET_MASK, type JsonSchema, type JsonSchemaFormHandle } from "./JsonSchemaForm";

const schema: JsonSchema = {
  type: "object",
  required: ["host", "port", "password"],
  properties: {
    host: { type: "string", title: "Host" },
    port: { type: "integer", title: "Port", default: 5432 },
    password: { type: "string", title: "Password" },
    sslmode: { type: "string", title: "SSL mode", enum: ["disable", "require", "verify-full"], default: "require" },
    auth: {
      title: "Authentication",
      oneOf: [
        { title: "Password", type: "object", properties: { method: { const: "password", type: "string" } } },
        {
          title: "SSH tunnel",
          type: "object",
          required: ["tunnel_host"],
          properties: { method: { const: "ssh", type: "string" }, tunnel_host: { type: "string", title: "Tunnel host" } },
        },
      ],
    },
    schemas: { type: "array", title: "Schemas", items: { type: "string" } },
  },
};

function Harness({ initial, fieldErrors, formRef, onData }: {
  initial: Record<string, unknown>;
  fieldErrors?: Record<string, string>;
  formRef?: React.Ref<JsonSchemaFormHandle>;
  onData?: (d: Record<string, unknown>) => void;
}) {
  const [data, setData] = useState(initial);
  return (
    <MantineProvider>
      <JsonSchemaForm
        ref={formRef}
        schema={schema}
        uiSchema={{ password: { "ui:widget": "password" } }}
        formData={data}
        onChange={(d) => {
          setData(d);
          onData?.(d);
        }}
        fieldErrors={fieldErrors}
        errorPrefix="config."
      />
    </MantineProvider>
  );
}

describe("JsonSchemaForm", () => {
  it("renders strings, numbers, secrets, enums and oneOf, and reports edits", async () => {
    let last: Record<string, unknown> = {};
    render(<Harness initial={{ host: "db", password: SECRET_MASK }} onData={(d) => (last = d)} />);
    expect(screen.getByLabelText(/^Host/)).toHaveValue("db");
    expect(screen.getByLabelText(/^Port/)).toHaveValue("5432");
    const password = screen.getByLabelText(/^Password/);
    expect(password).toHaveValue("");
    expect(password).toHaveAttribute("placeholder", "unchanged");
    expect(screen.getByLabelText(/^SSL mode/)).toHaveDisplayValue("require");
    const user = userEvent.setup();
    await user.selectOptions(screen.getByLabelText(/^SSL mode/), "verify-full");
    await user.clear(screen.getByLabelText(/^Host/));
    await user.type(screen.getByLabelText(/^Host/), "pg.example.org");
    await waitFor(() => expect(last).toMatchObject({ host: "pg.example.org", port: 5432, sslmode: "verify-full", password: SECRET_MASK }));
    // oneOf: switching the option shows its fields.
    expect(screen.queryByLabelText(/^Tunnel host/)).not.toBeInTheDocument();
    const choice = screen.getAllByRole("combobox").find((el) => within(el).queryByText("SSH tunnel"))!;
    await user.selectOptions(choice, "SSH tunnel");
    expect(await screen.findByLabelText(/^Tunnel host/)).toBeInTheDocument();
    // A typed secret replaces the mask; clearing it again keeps the stored one.
    await user.type(password, "s3cret");
    await waitFor(() => expect(last.password).toBe("s3cret"));
    await user.clear(password);
    await waitFor(() => expect(last.password).toBe(SECRET_MASK));
  });

  it("validates on demand and shows the API's field errors under their inputs", async () => {
    const ref = createRef<JsonSchemaFormHandle>();
    const { rerender } = render(<Harness initial={{}} formRef={ref} />);
    let valid = true;
    await waitFor(() => expect(ref.current).not.toBeNull());
    valid = ref.current!.validate();
    expect(valid).toBe(false);
    expect(await screen.findAllByText(/must have required property/)).not.toHaveLength(0);
    rerender(<Harness initial={{}} formRef={ref} fieldErrors={{ "config.host": "Cannot resolve this host.", name: "ignored here" }} />);
    expect(await screen.findByText("Cannot resolve this host.")).toBeInTheDocument();
  });

  it("maps dotted API field names to a nested error schema", () => {
    expect(fieldsToErrorSchema({ "config.auth.password": "Wrong.", host: "Bad." }, "config.")).toEqual({
      auth: { password: { __errors: ["Wrong."] } },
      host: { __errors: ["Bad."] },
    });
  });
});
