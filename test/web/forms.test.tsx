import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { LoginPage } from "../../web/src/features/auth/LoginPage";
import { KycForm } from "../../web/src/features/kyc/VerifyIdentityPage";
import { errorCatalog } from "../../server/errors";
import { useLocaleStore } from "../../web/src/stores/locale";
import { InTurn, Refusal, renderWithApi } from "./render";

const VALID_ID = "11010519491231002X";

describe("the real-name form", () => {
  it("names a wrong check character while typing and sends nothing", async () => {
    const user = userEvent.setup();
    const { calls } = renderWithApi(<KycForm refusedAsUnderage={false} />);
    await user.type(screen.getByLabelText("真实姓名"), "王小明");
    await user.type(screen.getByLabelText("身份证号"), "110105194912310021");
    expect(screen.getByText("校验位不正确，请核对号码")).toBeTruthy();
    expect(screen.getByLabelText("身份证号").getAttribute("aria-invalid")).toBe("true");
    await user.click(screen.getByLabelText(/我同意平台/));
    await user.click(screen.getByRole("button", { name: "提交认证" }));
    expect(calls.filter((c) => c.procedure === "kyc.submit")).toHaveLength(0);
  });

  it("requires consent before sending", async () => {
    const user = userEvent.setup();
    const { calls } = renderWithApi(<KycForm refusedAsUnderage={false} />);
    await user.type(screen.getByLabelText("真实姓名"), "王小明");
    await user.type(screen.getByLabelText("身份证号"), VALID_ID);
    await user.click(screen.getByRole("button", { name: "提交认证" }));
    expect(screen.getByText("请先勾选同意")).toBeTruthy();
    expect(calls.filter((c) => c.procedure === "kyc.submit")).toHaveLength(0);
  });

  it("sends the trimmed name and the upper-case number once everything is valid", async () => {
    const user = userEvent.setup();
    const { calls } = renderWithApi(<KycForm refusedAsUnderage={false} />, { "kyc.submit": { state: "verified" } });
    await user.type(screen.getByLabelText("真实姓名"), " 王小明 ");
    await user.type(screen.getByLabelText("身份证号"), VALID_ID.toLowerCase());
    expect(screen.getByText("格式正确")).toBeTruthy();
    await user.click(screen.getByLabelText(/我同意平台/));
    await user.click(screen.getByRole("button", { name: "提交认证" }));
    await waitFor(() => expect(calls.some((c) => c.procedure === "kyc.submit")).toBe(true));
    expect(calls.find((c) => c.procedure === "kyc.submit")!.input).toEqual({ name: "王小明", idNumber: VALID_ID });
  });

  it("shows the server's refusal in the reader's language", async () => {
    const user = userEvent.setup();
    renderWithApi(<KycForm refusedAsUnderage={false} />, { "kyc.submit": new Refusal("kyc.nameMismatch") });
    await user.type(screen.getByLabelText("真实姓名"), "王小明");
    await user.type(screen.getByLabelText("身份证号"), VALID_ID);
    await user.click(screen.getByLabelText(/我同意平台/));
    await user.click(screen.getByRole("button", { name: "提交认证" }));
    expect((await screen.findByRole("alert")).textContent).toBe(errorCatalog["kyc.nameMismatch"].zh);
  });

  it("tells a collector refused as under age why", () => {
    renderWithApi(<KycForm refusedAsUnderage />);
    expect(screen.getByText(/未满 18 周岁未能通过/)).toBeTruthy();
  });
});

describe("the login form", () => {
  it("refuses to ask for a code until the phone number is a mainland mobile number", async () => {
    const user = userEvent.setup();
    const { calls } = renderWithApi(<LoginPage />);
    const send = screen.getByRole("button", { name: "获取验证码" });
    await user.type(screen.getByLabelText("手机号"), "1230000");
    await user.tab();
    expect(screen.getByText("请输入 11 位中国大陆手机号")).toBeTruthy();
    expect((send as HTMLButtonElement).disabled).toBe(true);
    expect(calls).toHaveLength(0);
  });

  it("asks for a code and then counts down before it may be sent again", async () => {
    const user = userEvent.setup();
    const { calls } = renderWithApi(<LoginPage />, {
      "auth.requestCode": { resendAfterSeconds: 60, ttlSeconds: 300 },
    });
    await user.type(screen.getByLabelText("手机号"), "13812345678");
    await user.click(screen.getByRole("button", { name: "获取验证码" }));
    expect(await screen.findByRole("button", { name: /60 秒后重发/ })).toBeTruthy();
    expect(calls.find((c) => c.procedure === "auth.requestCode")!.input).toEqual({ phone: "13812345678" });
  });

  it("sends phone and code together to log in", async () => {
    const user = userEvent.setup();
    const { calls } = renderWithApi(<LoginPage />, {
      "auth.login": { id: 7, role: "collector", issuerId: null, phoneMasked: "138****5678" },
    });
    await user.type(screen.getByLabelText("手机号"), "13812345678");
    await user.type(screen.getByLabelText("验证码"), "123456");
    await user.click(screen.getByRole("button", { name: "登录 / 注册" }));
    await waitFor(() => expect(calls.some((c) => c.procedure === "auth.login")).toBe(true));
    expect(calls.find((c) => c.procedure === "auth.login")!.input).toEqual({ phone: "13812345678", code: "123456" });
  });
});

describe("the step-up prompt", () => {
  it("asks for a text-message code when the server wants one, says a wrong code plainly, then sends the same form again", async () => {
    const user = userEvent.setup();
    const { calls } = renderWithApi(<KycForm refusedAsUnderage={false} />, {
      "kyc.submit": new InTurn(new Refusal("auth.stepUpRequired", { purpose: "kyc" }), { state: "verified" }),
      "auth.requestStepUp": { resendAfterSeconds: 60, ttlSeconds: 300 },
      "auth.confirmStepUp": new InTurn(new Refusal("auth.code.wrong", { attemptsLeft: 4 }), { purpose: "kyc" }),
    });
    await user.type(screen.getByLabelText("真实姓名"), "王小明");
    await user.type(screen.getByLabelText("身份证号"), VALID_ID);
    await user.click(screen.getByLabelText(/我同意平台/));
    await user.click(screen.getByRole("button", { name: "提交认证" }));
    const panel = await screen.findByTestId("step-up");
    expect(panel.textContent).toContain("请再次验证身份");
    // Confirming waits for six digits; the code is sent to the account's own number, with a resend countdown.
    expect(screen.getByRole("button", { name: "验证并继续" }).hasAttribute("disabled")).toBe(true);
    await user.click(screen.getByRole("button", { name: "发送验证码" }));
    expect(await screen.findByRole("button", { name: /秒后重发/ })).toBeTruthy();
    expect(calls.find((c) => c.procedure === "auth.requestStepUp")!.input).toEqual({ purpose: "kyc" });
    await user.type(screen.getByLabelText("短信验证码"), "12345a6");
    await user.click(screen.getByRole("button", { name: "验证并继续" }));
    // A wrong step-up code says how many attempts are left, as the login form does.
    expect((await screen.findByRole("alert")).textContent).toBe("验证码错误（还可尝试 4 次）");
    await user.click(screen.getByRole("button", { name: "验证并继续" }));
    await waitFor(() => expect(calls.filter((c) => c.procedure === "kyc.submit")).toHaveLength(2));
    expect(calls.filter((c) => c.procedure === "auth.confirmStepUp").map((c) => c.input)).toEqual([
      { purpose: "kyc", code: "123456" },
      { purpose: "kyc", code: "123456" },
    ]);
    const [first, again] = calls.filter((c) => c.procedure === "kyc.submit");
    expect(again!.input).toEqual(first!.input);
  });
});

describe("the login form's refusals", () => {
  async function refusedWith(refusal: Refusal) {
    const user = userEvent.setup();
    renderWithApi(<LoginPage />, { "auth.login": refusal });
    await user.type(screen.getByLabelText("手机号"), "13812345678");
    await user.type(screen.getByLabelText("验证码"), "123456");
    await user.click(screen.getByRole("button", { name: "登录 / 注册" }));
    return (await screen.findByRole("alert")).textContent;
  }

  it("says how many attempts a wrong code leaves", async () => {
    expect(await refusedWith(new Refusal("auth.code.wrong", { attemptsLeft: 3 }))).toBe("验证码错误（还可尝试 3 次）");
  });

  it("says a lockout's wait in minutes, not hundreds of seconds", async () => {
    expect(await refusedWith(new Refusal("auth.locked", { retryAfterSeconds: 900 }))).toBe(
      "错误次数过多，该号码已暂时锁定（请 15 分钟后重试）",
    );
  });
});

describe("the English toggle", () => {
  it("shows the same form and the server's refusals in English", async () => {
    const user = userEvent.setup();
    useLocaleStore.getState().setLocale("en");
    renderWithApi(<KycForm refusedAsUnderage={false} />, { "kyc.submit": new Refusal("kyc.nameMismatch") });
    await user.type(screen.getByLabelText("Legal name"), "王小明");
    await user.type(screen.getByLabelText("ID card number"), VALID_ID);
    await user.click(screen.getByLabelText(/I agree/));
    await user.click(screen.getByRole("button", { name: "Verify" }));
    expect((await screen.findByRole("alert")).textContent).toBe(errorCatalog["kyc.nameMismatch"].en);
  });

  it("asks for the step-up code in English too", async () => {
    const user = userEvent.setup();
    useLocaleStore.getState().setLocale("en");
    renderWithApi(<KycForm refusedAsUnderage={false} />, {
      "kyc.submit": new Refusal("auth.stepUpRequired", { purpose: "kyc" }),
      "auth.requestStepUp": new Refusal("auth.rateLimited", { retryAfterSeconds: 30 }),
    });
    await user.type(screen.getByLabelText("Legal name"), "王小明");
    await user.type(screen.getByLabelText("ID card number"), VALID_ID);
    await user.click(screen.getByLabelText(/I agree/));
    await user.click(screen.getByRole("button", { name: "Verify" }));
    expect((await screen.findByTestId("step-up")).textContent).toContain("Confirm it is you");
    await user.click(screen.getByRole("button", { name: "Send code" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      `${errorCatalog["auth.rateLimited"].en} (retry in 30 s)`,
    );
  });
});
