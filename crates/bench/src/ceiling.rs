//! The ceiling: a bare axum handler answering a constant 200, on the same runtime settings
//! as authgate, measured with the same load generator in the same run.

pub async fn serve(port: u16) -> anyhow::Result<()> {
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
