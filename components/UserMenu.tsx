/** The signed-in user and a sign-out button (a POST form, so a link or prefetch cannot sign out). */
export function UserMenu({ user }: { user: { name: string; email: string; isAdmin: boolean } }) {
  return (
    <div class="user-menu">
      <a class="user-id" href="/account">
        <span class="user-name">{user.name}</span>
        <span class="user-email">{user.email}{user.isAdmin ? " · platform admin" : ""}</span>
      </a>
      <form method="post" action="/logout">
        <button class="btn btn-block" type="submit">Sign out</button>
      </form>
    </div>
  );
}
